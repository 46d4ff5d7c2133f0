# wordfreq: 1,000,000 words drawn from a fixed list of 50 with a linear congruential
# generator (high bits: (x // 65536) % 50), counted in a dict; print the counts of
# "the", "fox" and "zebra" and the number of distinct words.

WORDS = [
    "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "alpha", "beta",
    "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu",
    "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi",
    "psi", "omega", "red", "green", "blue", "cyan", "magenta", "yellow", "black", "white",
    "apple", "banana", "cherry", "grape", "lemon", "mango", "olive", "peach", "plum", "zebra",
]


def count_words(words, n):
    counts = {}
    x = 42
    for i in range(n):
        x = (x * 1103515245 + 12345) % 2147483648
        w = words[(x // 65536) % 50]
        counts[w] = counts.get(w, 0) + 1
    return counts


counts = count_words(WORDS, 1_000_000)
print(f"the={counts.get('the', 0)} fox={counts.get('fox', 0)} "
      f"zebra={counts.get('zebra', 0)} distinct={len(counts)}")
