setenv("PROBE_GCC", tostring(isloaded("gcc")))
setenv("PROBE_GCC12", tostring(isloaded("gcc/12")))
setenv("PROBE_GCC13", tostring(isloaded("gcc/13")))
setenv("PROBE_NONE", tostring(isloaded("nosuch")))
