set_alias("ll2", "ls -l --color=never")
set_alias("quoted", "echo 'single' \"double\" $HOME")
unset_alias("gone")
