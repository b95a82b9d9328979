-- hdf5 1.14.3, parallel, built with gcc 12 and openmpi 4.1 (sample build).

help([[
HDF5 1.14.3 with parallel I/O, built with gcc 12 and Open MPI 4.1 (sample build).

Sets HDF5_DIR, puts h5dump-demo on PATH and hdf5.pc on PKG_CONFIG_PATH.
]])

whatis("Name: hdf5")
whatis("Version: 1.14.3")
whatis("Description: HDF5: data model, library and file format for large, complex data (parallel build)")
whatis("Category: Library, I/O")
whatis("Keywords: HDF5, I/O, data format, parallel, MPI")
whatis("URL: https://www.hdfgroup.org/solutions/hdf5/")

-- This file is <tree>/MPI/<compiler>/<major>/<mpi>/<series>/<name>/<version>.lua:
-- the tree and the build (compiler, MPI) come from that path, so the same
-- file serves every MPI level and the tree works wherever it is installed.
local tree, cname, cver, mname, mver =
    myFileName():match("^(.*)/MPI/([^/]+)/([^/]+)/([^/]+)/([^/]+)/[^/]+/[^/]+%.lua$")
local build = cname .. "-" .. cver .. "-" .. mname .. "-" .. mver
local prefix = pathJoin(tree, "sw", "hdf5", myModuleVersion(), build)

setenv("HDF5_DIR", prefix)
prepend_path("PATH",            pathJoin(prefix, "bin"))
prepend_path("PKG_CONFIG_PATH", pathJoin(prefix, "lib/pkgconfig"))
