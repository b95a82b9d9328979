-- fftw 3.3.10 built with gcc 12 (sample build).

help([[
FFTW 3.3.10, built with gcc 12 (sample build): discrete Fourier transforms.

Sets FFTW_HOME, puts fftw-wisdom-demo on PATH and fftw3.pc on
PKG_CONFIG_PATH (pkg-config --modversion fftw3).
]])

whatis("Name: fftw")
whatis("Version: 3.3.10")
whatis("Description: FFTW: C library for computing discrete Fourier transforms")
whatis("Category: Library, Mathematics")
whatis("Keywords: FFT, Fourier, signal processing, numerical")
whatis("URL: https://www.fftw.org/")

-- This file is <tree>/Compiler/<compiler>/<major>/<name>/<version>.lua: the
-- tree, the compiler and its major version come from that path, so the same
-- file serves every compiler level and the tree works wherever it is installed.
local tree, cname, cver = myFileName():match("^(.*)/Compiler/([^/]+)/([^/]+)/[^/]+/[^/]+%.lua$")
local prefix = pathJoin(tree, "sw", "fftw", myModuleVersion(), cname .. "-" .. cver)

setenv("FFTW_HOME", prefix)
prepend_path("PATH",            pathJoin(prefix, "bin"))
prepend_path("PKG_CONFIG_PATH", pathJoin(prefix, "lib/pkgconfig"))
