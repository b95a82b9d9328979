family("compiler")
local base = string.match(myFileName(), "^(.*)/core/")
prepend_path("MODULEPATH", pathJoin(base, "comp/gcc/12"))
prepend_path("PATH", "/opt/gcc/12/bin")
