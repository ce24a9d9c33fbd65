-- Reserved for the privacy work (PIPL) of issue 11; filled in by it.
SELECT 1;
