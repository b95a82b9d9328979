-- R 4.3.3 (sample build).
-- Shows set_alias: the alias starts R without saving or restoring the
-- workspace, a common site habit on shared file systems.

help([[
R 4.3.3, a language and environment for statistical computing (sample build).

Puts R-demo and Rscript-demo on PATH, sets R_HOME, and defines the alias
"R" for "R-demo --no-save --no-restore" (aliases are removed on unload).
]])

whatis("Name: R")
whatis("Version: 4.3.3")
whatis("Description: R language and environment for statistical computing and graphics")
whatis("Category: Language, Statistics")
whatis("Keywords: R, statistics, data analysis, CRAN")
whatis("URL: https://www.r-project.org/")

-- This file is <tree>/Core/R/<version>.lua: <tree>/sw holds the software.
local tree   = myFileName():match("^(.*)/Core/[^/]+/[^/]+%.lua$")
local prefix = pathJoin(tree, "sw", "R", myModuleVersion())

setenv("R_HOME", prefix)
prepend_path("PATH", pathJoin(prefix, "bin"))
set_alias("R", "R-demo --no-save --no-restore")
