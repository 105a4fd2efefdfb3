from comfy.emulator.cli import main

raise SystemExit(main())
