-- Reserved for the health report of issue 11; filled in by it.
SELECT 1;
