-- sort: 100,000 numbers from a linear congruential generator, sorted ascending;
-- print the first, middle (index 50,000, 0-based) and last element.

local function run(n)
    local xs = {}
    local x = 42
    for i = 1, n do
        x = (x * 1103515245 + 12345) % 2147483648
        xs[i] = x
    end
    table.sort(xs)
    return xs[1] .. " " .. xs[n // 2 + 1] .. " " .. xs[n]
end

print(run(100000))
