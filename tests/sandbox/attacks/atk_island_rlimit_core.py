# Aims at the host's core dump handling: with RLIMIT_CORE above 1 a crash writes a core file (or feeds
# the host's core_pattern pipe helper, which only RLIMIT_CORE 1 turns away). ESCAPED when the hard
# limit is above 1 or the limit can be raised above 1.
import resource

INF, RES = resource.RLIM_INFINITY, resource.RLIMIT_CORE
soft, hard = resource.getrlimit(RES)
print("RLIMIT_CORE soft", soft, "hard", hard)
if hard == INF or hard > 1:
    print(f"ESCAPED: RLIMIT_CORE hard limit is {hard}")
attempts = [(hard, hard)] + ([(1 << 20, 1 << 20)] if hard != INF and hard < 1 << 20 else [])
for limits in attempts:  # the soft limit up to the hard one, then the hard one up (CAP_SYS_RESOURCE)
    try:
        resource.setrlimit(RES, limits)
    except (OSError, ValueError) as e:
        print("setrlimit", limits, "refused:", e)
        continue
    now = resource.getrlimit(RES)[0]
    print("setrlimit", limits, "accepted: soft limit now", now)
    if now != soft and (now == INF or now > 1):
        print(f"ESCAPED: RLIMIT_CORE soft limit raised to {now}")
