-- openblas 0.3.26 built with gcc 12 (sample build).
-- Sites allow one BLAS at a time: this one conflicts with Intel MKL.

help([[
OpenBLAS 0.3.26, built with gcc 12 (sample build): optimized BLAS and LAPACK.

Sets OPENBLAS_HOME, puts openblas-demo on PATH and openblas.pc on
PKG_CONFIG_PATH. Cannot be loaded together with an mkl module.
]])

whatis("Name: openblas")
whatis("Version: 0.3.26")
whatis("Description: OpenBLAS: optimized BLAS and LAPACK library")
whatis("Category: Library, Mathematics")
whatis("Keywords: BLAS, LAPACK, linear algebra, numerical")
whatis("URL: https://www.openblas.net/")

conflict("mkl")

-- This file is <tree>/Compiler/<compiler>/<major>/<name>/<version>.lua: the
-- tree, the compiler and its major version come from that path, so the same
-- file serves every compiler level and the tree works wherever it is installed.
local tree, cname, cver = myFileName():match("^(.*)/Compiler/([^/]+)/([^/]+)/[^/]+/[^/]+%.lua$")
local prefix = pathJoin(tree, "sw", "openblas", myModuleVersion(), cname .. "-" .. cver)

setenv("OPENBLAS_HOME", prefix)
prepend_path("PATH",            pathJoin(prefix, "bin"))
prepend_path("PKG_CONFIG_PATH", pathJoin(prefix, "lib/pkgconfig"))
