-- fib: naive recursive Fibonacci, fib(30) = 832040 (about 1.6 million calls).

local function fib(n)
    if n < 2 then
        return n
    end
    return fib(n - 1) + fib(n - 2)
end

print(fib(30))
