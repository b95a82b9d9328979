local root = pathJoin("/opt", "lua", myModuleVersion(), "bin")
setenv("LUA_ROOT", root)
setenv("LUA_FROM_ENV", (os.getenv("SITE_NAME") or "none") .. "-site")
setenv("LUA_MISSING_ENV", tostring(os.getenv("NO_SUCH_VAR_HERE")))
setenv("LUA_UPPER", string.upper("abc") .. string.format("%03d", 7))
local parts = {}
for w in string.gmatch("c,a,b", "[^,]+") do table.insert(parts, w) end
table.sort(parts)
setenv("LUA_SORTED", table.concat(parts, ":"))
setenv("LUA_MATH", tostring(math.max(3, 9, 4)) .. "/" .. tostring(math.floor(7.8)))
setenv("LUA_SUB", (("gcc-12.3.0"):gsub("%-", "/")))
