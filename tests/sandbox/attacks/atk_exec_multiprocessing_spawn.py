# Aims at the host: multiprocessing's "spawn" and "forkserver" contexts execute a fresh interpreter
# (execve of sys.executable). ESCAPED only when the spawned interpreter ran the target (exit code 42).
import multiprocessing
import sys

if globals().get("__name__") != "__mp_main__":  # the spawned interpreter imports this file again as __mp_main__
    for method in ("spawn", "forkserver"):
        try:
            ctx = multiprocessing.get_context(method)
            p = ctx.Process(target=sys.exit, args=(42,))
            p.start()
            p.join(timeout=8)
            if p.exitcode == 42:
                print(f"ESCAPED: multiprocessing {method} started a new interpreter")
            else:
                print(method, "exit code", p.exitcode)
                if p.is_alive():
                    p.kill()
        except BaseException as e:
            print(method, "refused:", type(e).__name__, e)
