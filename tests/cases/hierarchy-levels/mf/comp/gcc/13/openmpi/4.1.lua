family("mpi")
local base = string.match(myFileName(), "^(.*)/comp/")
prepend_path("MODULEPATH", pathJoin(base, "mpi/gcc/13/openmpi/4.1"))
prepend_path("PATH", "/opt/openmpi/4.1-gcc13/bin")
