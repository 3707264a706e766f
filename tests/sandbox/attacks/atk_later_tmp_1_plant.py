# Aims at later sessions (with atk_later_tmp_2_find): leave a file in every writable folder for a later
# session to find. Planting alone proves nothing; the finder prints ESCAPED if the file is still there.
import os

nonce = os.urandom(4).hex()
for d in dict.fromkeys(["/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/run/shm", os.getcwd()]):
    try:
        with open(os.path.join(d, "start_tui_fill_persist"), "w") as f:
            f.write("planted " + nonce)
        print("planted in", d)
    except OSError as e:
        print("cannot plant in", d, e.strerror)
