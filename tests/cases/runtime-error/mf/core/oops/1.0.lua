setenv("OOPS", "1")
local t = nil
setenv("OOPS_FIELD", t.field)
