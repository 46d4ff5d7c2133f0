# loop: 10 million iterations of integer arithmetic, summed.


def run(n):
    total = 0
    for i in range(n):
        total += (i * 3 + 7) % 1000
    return total


print(run(10_000_000))
