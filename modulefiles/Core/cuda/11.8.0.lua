-- cuda 11.8.0: the CUDA toolkit (sample build).
-- Marked with Lmod's GPU property (arch=gpu): avail shows it as "(g)".

help([[
NVIDIA CUDA Toolkit 11.8.0 (sample build).

Sets CUDA_HOME (read by build systems and by frameworks such as PyTorch)
and puts nvcc-demo on PATH. Loading it on a node without a GPU works;
running GPU code there does not.
]])

whatis("Name: cuda")
whatis("Version: 11.8.0")
whatis("Description: NVIDIA CUDA Toolkit: compiler, libraries and tools for GPU computing")
whatis("Category: Library, GPU")
whatis("Keywords: gpu, cuda, nvidia, accelerator")
whatis("URL: https://developer.nvidia.com/cuda-toolkit")

add_property("arch", "gpu")

-- This file is <tree>/Core/cuda/<version>.lua: <tree>/sw holds the software.
local tree   = myFileName():match("^(.*)/Core/[^/]+/[^/]+%.lua$")
local prefix = pathJoin(tree, "sw", "cuda", myModuleVersion())

setenv("CUDA_HOME", prefix)
setenv("CUDA_VERSION", "11.8")
prepend_path("PATH", pathJoin(prefix, "bin"))
