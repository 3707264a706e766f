# expect: True 3 olleh HELLO 104 ['b', 'a', 'n'] 8
# ruff: noqa: SIM905
s = "racecar"
words = "the cat and the hat".split()
print(
    s == s[::-1],
    words.count("the") + 1,
    "hello"[::-1],
    "hello".upper(),
    ord("h"),
    list("ban"),
    len(max(words, key=len) * 2 + "xx"),
)
print("-".join(sorted(set("mississippi"))), "a,b,,c".split(","), " pad ".strip(), "abc".zfill(5), "x".center(5, "*"))
