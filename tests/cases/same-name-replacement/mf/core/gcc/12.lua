setenv("GCC_V", "12")
prepend_path("PATH", "/opt/gcc/12/bin")
