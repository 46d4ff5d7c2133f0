-- objects: 300,000 small records {x, y, vx, vy}, moved over 10 passes (bouncing off
-- the edges of a 1000 x 1000 box), then an integer checksum of all of them.
-- Mirrors the FLIN version: writes go through the list (pts[i].x = ...).

local function simulate(n, passes)
    local pts = {}
    for i = 0, n - 1 do
        pts[i + 1] = { x = i % 1000, y = (i * 7) % 1000, vx = i % 7 - 3, vy = i % 5 - 2 }
    end
    for pass = 1, passes do
        for i = 1, n do
            local p = pts[i]
            local nx = p.x + p.vx
            local ny = p.y + p.vy
            pts[i].x = nx
            pts[i].y = ny
            if nx < 0 or nx > 999 then
                pts[i].vx = -p.vx
            end
            if ny < 0 or ny > 999 then
                pts[i].vy = -p.vy
            end
        end
    end
    local checksum = 0
    for _, p in ipairs(pts) do
        checksum = checksum + p.x * 3 + p.y * 5 + p.vx * 7 + p.vy
    end
    return checksum
end

print(simulate(300000, 10))
