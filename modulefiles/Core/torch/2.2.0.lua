-- torch 2.2.0: PyTorch, tensors and deep learning (sample CPU-only build).
-- A Python library as a module: it puts its site-packages on PYTHONPATH
-- and depends on the modules it needs, which load with it and leave with it.

help([[
torch 2.2.0 (sample build): Tensors and deep learning (PyTorch), CPU build.

Provides the Python package torch_demo, importable once the module is loaded:

    python3 -c 'import torch_demo; print(torch_demo.__version__)'

A CPU-only build; torch_demo.cuda.is_available() is False.
]])

whatis("Name: torch")
whatis("Version: 2.2.0")
whatis("Description: Tensors and deep learning (PyTorch), CPU build")
whatis("Category: Python, Library")
whatis("Keywords: python, deep learning, machine learning, tensors, AI")
whatis("URL: https://pytorch.org/")

depends_on("python")

-- This file is <tree>/Core/torch/<version>.lua: <tree>/sw holds the software.
local tree   = myFileName():match("^(.*)/Core/[^/]+/[^/]+%.lua$")
local prefix = pathJoin(tree, "sw", "torch", myModuleVersion())

prepend_path("PYTHONPATH", pathJoin(prefix, "lib/python3/site-packages"))
