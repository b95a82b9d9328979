-- gcc 12.3.0: the GNU Compiler Collection (sample build).
-- A compiler opens its level of the hierarchy: the modules built with it live
-- in <tree>/Compiler/gcc/12, and loading another compiler (same family)
-- swaps them for that compiler's builds.

help([[
GNU Compiler Collection 12.3.0 (sample build).

Puts gcc-demo and gfortran-demo on PATH and their manual on MANPATH, sets
CC, CXX and FC for build systems (the values they had before come back on
unload), and makes the libraries built with gcc 12 available:
openmpi, fftw, openblas.
]])

whatis("Name: gcc")
whatis("Version: 12.3.0")
whatis("Description: GNU Compiler Collection: C, C++ and Fortran compilers")
whatis("Category: Compiler")
whatis("Keywords: compiler, C, C++, Fortran, GNU")
whatis("URL: https://gcc.gnu.org/")

-- This file is <tree>/Core/gcc/<version>.lua; the tree, and the software in
-- <tree>/sw, are found from there, wherever the tree is installed.
local tree   = myFileName():match("^(.*)/Core/[^/]+/[^/]+%.lua$")
local prefix = pathJoin(tree, "sw", "gcc", myModuleVersion())
local major  = myModuleVersion():match("^(%d+)")

family("compiler")

prepend_path("PATH",    pathJoin(prefix, "bin"))
prepend_path("MANPATH", pathJoin(prefix, "share/man"))

-- pushenv, not setenv: a CC the user had set comes back on unload.
pushenv("CC",  "gcc")
pushenv("CXX", "g++")
pushenv("FC",  "gfortran")

prepend_path("MODULEPATH", pathJoin(tree, "Compiler", "gcc", major))
