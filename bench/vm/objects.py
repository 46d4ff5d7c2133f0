# objects: 300,000 small records {x, y, vx, vy}, moved over 10 passes (bouncing off
# the edges of a 1000 x 1000 box), then an integer checksum of all of them.
# Records are dicts (the closest match to FLIN's record literals and Lua's tables).
# Mirrors the FLIN version: writes go through the list (pts[i]["x"] = ...).


def simulate(n, passes):
    pts = []
    for i in range(n):
        pts.append({"x": i % 1000, "y": (i * 7) % 1000, "vx": i % 7 - 3, "vy": i % 5 - 2})
    for _ in range(passes):
        for i in range(n):
            p = pts[i]
            nx = p["x"] + p["vx"]
            ny = p["y"] + p["vy"]
            pts[i]["x"] = nx
            pts[i]["y"] = ny
            if nx < 0 or nx > 999:
                pts[i]["vx"] = -p["vx"]
            if ny < 0 or ny > 999:
                pts[i]["vy"] = -p["vy"]
    checksum = 0
    for p in pts:
        checksum += p["x"] * 3 + p["y"] * 5 + p["vx"] * 7 + p["vy"]
    return checksum


print(simulate(300_000, 10))
