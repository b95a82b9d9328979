setenv("PRE", myModuleFullName())
