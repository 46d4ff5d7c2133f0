# strings: build one text by appending 200,000 short pieces ("0,1,2,...,199999,"),
# then print its length (1,288,890 characters).
# `s += piece` on a local is CPython's in-place append (amortised linear).


def build(n):
    s = ""
    for i in range(n):
        s += str(i) + ","
    return s


print(len(build(200_000)))
