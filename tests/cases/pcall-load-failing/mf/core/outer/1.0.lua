setenv("OUTER_BEFORE", "1")
local ok = pcall(load, "broken")
setenv("OUTER_AFTER", tostring(ok))
