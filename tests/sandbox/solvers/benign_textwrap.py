# expect: The quick brown
import textwrap

text = "The quick brown fox jumps over the lazy dog again and again"
print(textwrap.fill(text, width=16))
print(
    textwrap.dedent("""\
    indented
      more""")
)
print(textwrap.shorten(text, width=25, placeholder="..."))
