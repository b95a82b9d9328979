family("compiler")
prepend_path("PATH", "/opt/intel/2023.1/bin")
