local function yn(x) if x then return "yes" else return "no" end end
setenv("AVAIL_GCC", yn(isAvail("gcc")))
setenv("AVAIL_GCC12", yn(isAvail("gcc/12")))
setenv("AVAIL_GCC99", yn(isAvail("gcc/99")))
setenv("AVAIL_NONE", yn(isAvail("nosuch")))
