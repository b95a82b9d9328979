setenv("CAUGHT_BEFORE", "1")
local ok = pcall(LmodError, "caught cannot be loaded here")
setenv("CAUGHT_AFTER", tostring(ok))
