family("compiler")
prepend_path("PATH", "/opt/clang/17/bin")
