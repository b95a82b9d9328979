family("compiler")
local base = string.match(myFileName(), "^(.*)/core/")
prepend_path("MODULEPATH", pathJoin(base, "comp/gcc/13"))
prepend_path("PATH", "/opt/gcc/13/bin")
