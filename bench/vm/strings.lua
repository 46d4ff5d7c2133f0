-- strings: build one text by appending 200,000 short pieces ("0,1,2,...,199999,"),
-- then print its length (1,288,890 characters).
-- Lua strings are immutable and `s = s .. piece` copies the whole text every time
-- (quadratic), so this uses Lua's own idiom for building text: a buffer table
-- joined once with table.concat.

local function build(n)
    local parts = {}
    for i = 0, n - 1 do
        parts[i + 1] = i .. ","
    end
    return table.concat(parts)
end

print(#build(200000))
