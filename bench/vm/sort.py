# sort: 100,000 numbers from a linear congruential generator, sorted ascending;
# print the first, middle (index 50,000) and last element.


def run(n):
    xs = []
    x = 42
    for i in range(n):
        x = (x * 1103515245 + 12345) % 2147483648
        xs.append(x)
    s = sorted(xs)
    return f"{s[0]} {s[n // 2]} {s[n - 1]}"


print(run(100_000))
