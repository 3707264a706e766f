# Aims at host kernel memory: queued signals are counted per uid against RLIMIT_SIGPENDING, and each
# queued signal is kernel memory outside the session's memory limit. ESCAPED when the soft or hard
# limit is above 4096, or the limit can be raised above 4096.
import resource

INF, RES = resource.RLIM_INFINITY, resource.RLIMIT_SIGPENDING
soft, hard = resource.getrlimit(RES)
print("RLIMIT_SIGPENDING soft", soft, "hard", hard)
if INF in (soft, hard) or max(soft, hard) > 4096:
    print(f"ESCAPED: RLIMIT_SIGPENDING allows more than 4096 queued signals (soft {soft}, hard {hard})")
attempts = [(hard, hard)] + ([(1 << 20, 1 << 20)] if hard != INF and hard < 1 << 20 else [])
for limits in attempts:  # the soft limit up to the hard one, then the hard one up (CAP_SYS_RESOURCE)
    try:
        resource.setrlimit(RES, limits)
    except (OSError, ValueError) as e:
        print("setrlimit", limits, "refused:", e)
        continue
    now = resource.getrlimit(RES)[0]
    print("setrlimit", limits, "accepted: soft limit now", now)
    if now != soft and (now == INF or now > 4096):
        print(f"ESCAPED: RLIMIT_SIGPENDING soft limit raised to {now}")
