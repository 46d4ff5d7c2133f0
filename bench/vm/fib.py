# fib: naive recursive Fibonacci, fib(30) = 832040 (about 1.6 million calls).


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


print(fib(30))
