# expect: ['12', '7', '300'] 2024-03-15 a_b_c True
import re

text = "There are 12 apples, 7 pears and 300 grapes."
m = re.search(r"(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})", "date: 2024/03/15")
print(
    re.findall(r"\d+", text),
    "{}-{}-{}".format(m.group("y"), m["m"], m.group(3)),
    re.sub(r"\s+", "_", "a  b\tc"),
    bool(re.fullmatch(r"[a-z]+\d*", "abc123")),
)
print(re.split(r"[,;]\s*", "x, y;z"), len(re.compile(r"o").findall("foo boo")))
