-- openmpi 4.1.6 built with gcc 12 (sample build).
-- An MPI implementation opens the MPI level of the hierarchy: the libraries
-- built with this compiler and this MPI live in
-- <tree>/MPI/gcc/12/openmpi/4.1. family("mpi") allows one MPI at a time.

help([[
Open MPI 4.1.6, built with gcc 12 (sample build).

Puts mpirun-demo and mpicc-demo on PATH, sets MPI_HOME and the MPI compiler
wrappers' variables, and makes the parallel libraries built with gcc 12 and
Open MPI 4.1 available: hdf5, petsc.
]])

whatis("Name: openmpi")
whatis("Version: 4.1.6")
whatis("Description: Open MPI: an open source Message Passing Interface implementation")
whatis("Category: MPI, Library")
whatis("Keywords: MPI, parallel, message passing, HPC")
whatis("URL: https://www.open-mpi.org/")

-- This file is <tree>/Compiler/<compiler>/<major>/<name>/<version>.lua: the
-- tree, the compiler and its major version come from that path, so the same
-- file serves every compiler level and the tree works wherever it is installed.
local tree, cname, cver = myFileName():match("^(.*)/Compiler/([^/]+)/([^/]+)/[^/]+/[^/]+%.lua$")
local prefix = pathJoin(tree, "sw", "openmpi", myModuleVersion(), cname .. "-" .. cver)
local series = myModuleVersion():match("^(%d+%.%d+)")

family("mpi")

setenv("MPI_HOME", prefix)
prepend_path("PATH",            pathJoin(prefix, "bin"))
prepend_path("PKG_CONFIG_PATH", pathJoin(prefix, "lib/pkgconfig"))
pushenv("MPICC",  "mpicc")
pushenv("MPIFC",  "mpifort")

prepend_path("MODULEPATH", pathJoin(tree, "MPI", cname, cver, "openmpi", series))
