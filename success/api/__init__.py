"""/api/v1/ endpoints of the success app, one module per area: success plans
with objectives, business reviews, renewals with their forecast history.
Routes are in `urls`."""
