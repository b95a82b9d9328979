-- petsc 3.20.5 built with gcc 12, openmpi 4.1 and openblas (sample build).
-- Its BLAS lives one level up (the compiler level): depends_on loads it.

help([[
PETSc 3.20.5, built with gcc 12, Open MPI 4.1 and OpenBLAS (sample build):
data structures and solvers for partial differential equations.

Sets PETSC_DIR, loads openblas, puts petsc-demo on PATH and
petsc.pc on PKG_CONFIG_PATH.
]])

whatis("Name: petsc")
whatis("Version: 3.20.5")
whatis("Description: PETSc: scalable solvers for partial differential equations")
whatis("Category: Library, Mathematics")
whatis("Keywords: PDE, solvers, linear algebra, sparse, MPI")
whatis("URL: https://petsc.org/")

depends_on("openblas")

-- This file is <tree>/MPI/<compiler>/<major>/<mpi>/<series>/<name>/<version>.lua:
-- the tree and the build (compiler, MPI) come from that path, so the same
-- file serves every MPI level and the tree works wherever it is installed.
local tree, cname, cver, mname, mver =
    myFileName():match("^(.*)/MPI/([^/]+)/([^/]+)/([^/]+)/([^/]+)/[^/]+/[^/]+%.lua$")
local build = cname .. "-" .. cver .. "-" .. mname .. "-" .. mver
local prefix = pathJoin(tree, "sw", "petsc", myModuleVersion(), build)

setenv("PETSC_DIR", prefix)
prepend_path("PATH",            pathJoin(prefix, "bin"))
prepend_path("PKG_CONFIG_PATH", pathJoin(prefix, "lib/pkgconfig"))
