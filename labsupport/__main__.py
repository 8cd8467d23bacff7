from labsupport.course.cli import main

raise SystemExit(main())
