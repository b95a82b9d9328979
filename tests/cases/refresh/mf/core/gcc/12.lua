family("compiler")
setenv("GCC_HOME", "/opt/gcc/12")
set_alias("gcc-version", "echo 12")
