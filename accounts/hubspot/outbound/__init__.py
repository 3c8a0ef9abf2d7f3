"""Outbound: Lifecycle -> HubSpot. The push pass (`push`), deals made in Lifecycle
(`deal_push`), companies for accounts made here (`creates`), our properties in the
portal (`provisioning`) and a person's conflict resolution (`conflicts`). May use the
inbound page writers (a found company is written like an imported one)."""
