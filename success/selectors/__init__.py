"""Every read the success pages and API need, one module per area (plans,
reviews, renewals) plus those for the pages that gather all three: `overview`
(the account's success section) and `work` (My work). Each returns what its page shows already
joined, so a page costs the same few queries for 5 rows or 5,000."""
