family("compiler")
prepend_path("PATH", "/opt/gcc/12/bin")
