-- python 3.11.8 (sample build).
-- The Python libraries of this tree (numpy, pandas, matplotlib, torch,
-- torchvision) are modules of their own that depend on a python module.
-- In the sample the interpreter is the system's python3; this module stands
-- for a site build and brings python-demo, which names the version.

help([[
Python 3.11.8 (sample build).

Puts python-demo on PATH.
Python libraries are separate modules: module load numpy pandas torch ...
]])

whatis("Name: python")
whatis("Version: 3.11.8")
whatis("Description: Python programming language interpreter")
whatis("Category: Language")
whatis("Keywords: python, interpreter, scripting")
whatis("URL: https://www.python.org/")

-- This file is <tree>/Core/python/<version>.lua: <tree>/sw holds the software.
local tree   = myFileName():match("^(.*)/Core/[^/]+/[^/]+%.lua$")
local prefix = pathJoin(tree, "sw", "python", myModuleVersion())

prepend_path("PATH", pathJoin(prefix, "bin"))
