-- loop: 10 million iterations of integer arithmetic, summed.

local function run(n)
    local total = 0
    for i = 0, n - 1 do
        total = total + (i * 3 + 7) % 1000
    end
    return total
end

print(run(10000000))
