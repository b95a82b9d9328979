setenv("GCC_V", "13")
prepend_path("PATH", "/opt/gcc/13/bin")
