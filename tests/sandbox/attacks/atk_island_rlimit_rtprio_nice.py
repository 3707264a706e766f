# Aims at the host's CPU scheduling: RLIMIT_RTPRIO above 0 lets an unprivileged process take a
# real-time policy (starving the host's ordinary processes), RLIMIT_NICE above 0 lets it go below
# nice 0 (20 - limit). ESCAPED when either limit is non-zero, soft or hard.
import resource

for name in ("RLIMIT_RTPRIO", "RLIMIT_NICE"):
    soft, hard = resource.getrlimit(getattr(resource, name))
    print(name, "soft", soft, "hard", hard)
    if soft != 0 or hard != 0:
        print(f"ESCAPED: {name} is not zero (soft {soft}, hard {hard})")
