-- wordfreq: 1,000,000 words drawn from a fixed list of 50 with a linear congruential
-- generator (high bits: (x // 65536) % 50), counted in a table; print the counts of
-- "the", "fox" and "zebra" and the number of distinct words.

local words = {
    "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "alpha", "beta",
    "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu",
    "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi",
    "psi", "omega", "red", "green", "blue", "cyan", "magenta", "yellow", "black", "white",
    "apple", "banana", "cherry", "grape", "lemon", "mango", "olive", "peach", "plum", "zebra"
}

local function count_words(words, n)
    local counts = {}
    local x = 42
    for i = 1, n do
        x = (x * 1103515245 + 12345) % 2147483648
        local w = words[(x // 65536) % 50 + 1]
        counts[w] = (counts[w] or 0) + 1
    end
    return counts
end

local counts = count_words(words, 1000000)
local distinct = 0
for _ in pairs(counts) do
    distinct = distinct + 1
end
print("the=" .. (counts["the"] or 0) .. " fox=" .. (counts["fox"] or 0) ..
      " zebra=" .. (counts["zebra"] or 0) .. " distinct=" .. distinct)
