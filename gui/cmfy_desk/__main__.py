from cmfy_desk.cli import main

raise SystemExit(main())
